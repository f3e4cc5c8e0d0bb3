from ctc_asr.cli import main

main()
