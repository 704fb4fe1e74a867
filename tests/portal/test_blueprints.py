"""The portal's shape: a freshly started app serves every view its blueprint packages define.

A blueprint package registers its own views by importing its modules in its
``__init__``. A module that is left out there would silently drop its pages, and
inside one test session that would go unseen, because another test importing the
module registers its views for every later app. So the app is built in a fresh
interpreter, and compared with what importing every module of the packages gives.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from flask import Blueprint, Flask

import portal

ROOT = Path(__file__).resolve().parents[2]

_FRESH_APP = """
import json, sys
from portal import create_app
app = create_app({"SECRET_KEY": "x", "DEVELOPMENT": True, "DATABASE_URL": "sqlite://",
                  "INSTANCE_PATH": sys.argv[1], "REDIS_URL": None})
print(json.dumps(sorted(app.view_functions)))
"""


def _blueprint_packages() -> list[ModuleType]:
    """The subpackages of ``portal`` whose ``__init__`` creates a blueprint."""
    found = []
    for info in pkgutil.iter_modules(portal.__path__):
        if info.ispkg:
            package = importlib.import_module(f"portal.{info.name}")
            if any(isinstance(value, Blueprint) for value in vars(package).values()):
                found.append(package)
    return found


def _every_defined_endpoint(packages: list[ModuleType]) -> set[str]:
    """The endpoints the packages' modules define, each module imported for certain."""
    blueprints: list[Blueprint] = []
    for package in packages:
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
        blueprints += [v for v in vars(package).values() if isinstance(v, Blueprint)]
    bare = Flask(__name__)
    for blueprint in blueprints:
        bare.register_blueprint(blueprint)
    return set(bare.view_functions) - {"static"}


def test_a_fresh_app_serves_every_view_of_every_blueprint_package(tmp_path):
    packages = _blueprint_packages()
    assert {p.__name__ for p in packages} >= {"portal.api", "portal.partner", "portal.vendor_admin"}

    env = os.environ | {"PYTHONPATH": str(ROOT)}
    fresh = subprocess.run(
        [sys.executable, "-c", _FRESH_APP, str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    served = set(json.loads(fresh.stdout.strip().splitlines()[-1]))

    defined = _every_defined_endpoint(packages)
    assert defined - served == set()
    # Dozens of pages, not a handful: the comparison above is about something.
    assert len(defined) > 80
