"""Running the `hub` console group in this process, as the console script would run it.

A subprocess costs a Python start-up and every import (about half a second); in-process, a
command costs its own work. The group is the console script's (`hub.cli.HubGroup`), the settings
come from the environment given (HUB_* of the test process removed), and the result looks like a
finished process: `returncode`, `stdout`, `stderr`. A traceback is never swallowed: an unexpected
exception lands in `stderr` as the traceback the console script would print, so "no Traceback"
assertions keep their meaning. Tests whose point is the real process (undecodable argv bytes,
`flask --app hub`, the README) still start one.
"""
from __future__ import annotations

import dataclasses
import gc
import os
import traceback

from click.testing import CliRunner

from hub.cli import HubGroup


@dataclasses.dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str


def run_hub(args, env_extra, check=True, stdin=None) -> Finished:
    env = {name: None for name in os.environ if name.startswith("HUB_")} | dict(env_extra)
    result = CliRunner().invoke(HubGroup(), [str(a) for a in args], env=env, input=stdin)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "Traceback (most recent call last):\n" + "".join(traceback.format_exception(result.exception))
    gc.collect()  # the command's app and its database pool go now, not at some later collection
    finished = Finished(result.exit_code, result.stdout, stderr)
    if check and finished.returncode != 0:
        raise AssertionError(f"hub {args} failed: {finished.stdout}{finished.stderr}")
    return finished
