"""The layering: pages call the UI package and the application layer; the application layer never calls the CLI;
low-level modules never call the application layer; tlcore never imports streamlit."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The application layer and the applications beside the CLI.
APPLICATION = ("tlcore.service", "tlcore.cli", "tlcore.__main__", "tlcore.experiments", "tlcore.bench")
#: What a page (or app.py) may import from this project.
PAGE_ALLOWED = ("ui", "tlcore.service", "tlcore.i18n", "tlcore.viz")
#: What the UI package may import from tlcore.
UI_ALLOWED = ("tlcore.service", "tlcore.i18n", "tlcore.viz", "tlcore.errors")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path, module: str | None = None) -> set[str]:
    """Absolute names of the modules ``path`` (the module ``module``) imports, relative imports resolved, at any depth."""
    package = (module or _module_name(path)).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
                out.add(name)
                out |= {f"{name}.{a.name}" for a in node.names}  # "from . import service"
            elif node.module:
                out.add(node.module)
                out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def _within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _project(names: set[str]) -> set[str]:
    """This project's modules among ``names`` (the bare ``tlcore`` of ``from tlcore import x`` aside)."""
    return {n for n in names if _within(n, ("tlcore", "ui", "app_common")) and n != "tlcore"}


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", [ROOT / "app.py", *_files("views")], ids=lambda p: p.name)
def test_pages_import_only_the_ui_and_the_application_layer(path):
    bad = {n for n in _project(imports_of(path)) if not _within(n, PAGE_ALLOWED)}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _files("ui"), ids=lambda p: p.name)
def test_ui_package_imports_only_the_application_layer(path):
    bad = {n for n in _project(imports_of(path)) if n.startswith("tlcore") and not _within(n, UI_ALLOWED)}
    assert not bad, f"ui/{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _files("tlcore/service"), ids=lambda p: p.name)
def test_application_layer_never_imports_the_cli_or_the_applications(path):
    bad = {n for n in imports_of(path) if _within(n, ("tlcore.cli", "tlcore.experiments", "tlcore.bench"))}
    assert not bad, f"{path.name} imports {sorted(bad)}"


LOW_LEVEL = [p for p in _files("tlcore") if not _within(_module_name(p), APPLICATION)]


@pytest.mark.parametrize("path", LOW_LEVEL, ids=lambda p: _module_name(p))
def test_low_level_modules_never_import_the_application_layer(path):
    bad = {n for n in imports_of(path) if _within(n, APPLICATION)}
    assert not bad, f"{_module_name(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _files("tlcore"), ids=lambda p: _module_name(p))
def test_tlcore_never_imports_streamlit_or_the_ui(path):
    bad = {n for n in imports_of(path) if _within(n, ("streamlit", "ui", "app_common"))}
    assert not bad, f"{_module_name(path)} imports {sorted(bad)}"


def test_the_rules_catch_a_violation(tmp_path):
    """The checker itself: relative imports (nested ones too) are resolved, so a service module calling the CLI is seen."""
    names = imports_of(ROOT / "tlcore" / "service" / "compare.py")
    assert "tlcore.runs" in names and "tlcore.lab.recipes" in names
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ..cli import main\n")
    assert "tlcore.cli" in imports_of(probe, module="tlcore.service.probe")
