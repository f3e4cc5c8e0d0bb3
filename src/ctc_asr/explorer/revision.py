"""Files as a git revision or a DVC experiment has them, read with DVC: git-tracked metrics and the
DVC-cached tables alike (`dvc exp show` lists the experiments; their outputs are in the local cache)."""

from pathlib import Path

from ctc_asr.core.errors import UserError


def resolve(rev: str, project: Path) -> str:
    """The commit `rev` names: a commit, branch or tag, or an experiment's name (which git alone does not know)."""
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo
    from dvc.scm import RevError, resolve_rev

    try:
        with Repo(str(project)) as repo:
            return resolve_rev(repo.scm, rev)
    except NotDvcRepoError:
        raise UserError(f"{Path(project).resolve()}: not a DVC project, so no revision to compare with") from None
    except RevError:
        raise UserError(f"{rev}: not a git revision or DVC experiment here (`dvc exp show` lists them)") from None


def copy_at(commit: str, rev: str, paths: list[Path], project: Path, folder: Path) -> None:
    """Each of `paths` as it is at `commit`, written under `folder` at the same relative place."""
    import dvc.api
    from dvc.exceptions import DvcException, PathMissingError

    for path in paths:
        try:
            data = dvc.api.read(str(path), repo=str(project), rev=commit, mode="rb")
        except PathMissingError:
            raise UserError(f"{rev}: has no {path} (no evaluate run there)") from None
        except (DvcException, OSError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise UserError(f"{rev}: cannot read {path} ({reason}; `dvc pull` it, or rerun that experiment)") from None
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
