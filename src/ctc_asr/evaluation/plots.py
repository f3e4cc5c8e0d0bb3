"""The HTML page `dvc plots show --html-template` fills, with Vega, Vega-Lite and vega-embed inside it.

DVC's own page loads the three from a CDN, and offline it stays blank. This one carries them as
vl-convert-python bundles them (in the Vega-Lite 5 that DVC's plot specifications are written for),
so the page draws with no network and is one file to keep or send. `make plots` writes it and runs
`dvc plots show` with it; tests/test_results_e2e.py opens the result in headless Chromium, offline.

    python -m ctc_asr.evaluation.plots dvc_plots/page.html
"""

import sys
from pathlib import Path

import vl_convert

from ctc_asr.core.errors import UserError, exit_on_user_error

# What DVC replaces in a template (dvc_render.html): the page's plots, its CDN scripts (left out here) and
# its refresh tag. The bundle must not contain them, nor end the script element it sits in.
PLACEHOLDERS = ("{plot_divs}", "{scripts}", "{refresh_tag}")

PAGE = """<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    {refresh_tag}
    <title>ctc_asr plots</title>
    <script type="text/javascript">
{bundle}
    </script>
    <style>
        body { font-family: sans-serif; }
        table { border-spacing: 15px; }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def vega_lite_version() -> str:
    """The newest Vega-Lite 5 vl-convert has: DVC's templates are Vega-Lite 5 specifications."""
    fives = [v for v in vl_convert.get_vegalite_versions() if v.startswith("5.")]
    if not fives:
        raise UserError(f"vl-convert-python {vl_convert.__version__} bundles no Vega-Lite 5, which DVC's plots need")
    return max(fives, key=lambda v: tuple(int(part) for part in v.split(".")))


def page() -> str:
    """The template: DVC's placeholders for the plots and the refresh tag, the three libraries inline."""
    bundle = vl_convert.javascript_bundle(vl_version=vega_lite_version())
    clashes = [p for p in (*PLACEHOLDERS, "</script") if p in bundle.lower()]
    if clashes:
        raise UserError(f"vl-convert-python's bundle contains {', '.join(clashes)}: it cannot be inlined in the page")
    return PAGE.replace("{bundle}", bundle)


@exit_on_user_error
def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise UserError("usage: python -m ctc_asr.evaluation.plots PAGE.html")
    path = Path(argv[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
