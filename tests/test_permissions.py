"""Guards on the permission model itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from involve.permissions import CAPABILITIES

EXEMPT = {"static"}


def test_every_endpoint_declares_a_capability(app):
    missing = [endpoint for endpoint, view in app.view_functions.items()
               if endpoint not in EXEMPT and getattr(view, "capability", None) not in CAPABILITIES]
    assert not missing, f"endpoints without a declared capability: {sorted(missing)}"


def _all_cases():
    cases = []
    for path in sorted(Path(__file__).parent.glob("*/test_matrix.py")):
        spec = importlib.util.spec_from_file_location(f"matrix_{path.parent.name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases.extend(module.CASES)
    return cases


def test_every_endpoint_is_in_the_matrix(app):
    covered = {case.endpoint for case in _all_cases()}
    missing = sorted(set(app.view_functions) - EXEMPT - covered)
    assert not missing, f"endpoints missing from the permission matrix: {missing}"
