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


DOMAINS = ["people", "auth", "elections", "meetings", "recruitment", "newsletters", "feedback"]


def _imports(path: Path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_policy_core_imports_no_domain():
    core = Path(__file__).parent.parent / "involve" / "permissions.py"
    domains = {m for m in _imports(core) if m.split(".")[1:2] and m.split(".")[1] in DOMAINS}
    assert not domains, f"involve/permissions.py imports domains: {domains}"


def test_each_domain_policy_imports_only_its_domain_people_and_the_core():
    root = Path(__file__).parent.parent / "involve"
    for path in sorted(root.glob("*/policy.py")):
        domain = path.parent.name
        for module in _imports(path):
            parts = module.split(".")
            if parts[0] == "involve" and len(parts) > 1 and parts[1] in DOMAINS:
                assert parts[1] in (domain, "people"), f"{path}: imports {module}"
