"""CRC-32C for the engine: the `crc32c` package's C function, imported without running the package's __init__.

That __init__ reads the package's own version through importlib.metadata, which costs 25-30 ms of start-up (the
email package and more), a tenth of `pages verify` on a 1 GiB file. The extension module `crc32c._crc32c` is
loaded directly instead and registered under its own name (a later `import crc32c` reuses it); any surprise in the
package layout falls back to the ordinary import. Same function, same results.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

_EXTENSION = "crc32c._crc32c"


def _load_extension() -> ModuleType:
    import importlib.machinery
    import importlib.util

    package = importlib.util.find_spec("crc32c")  # locates the package; a top-level name is not imported
    locations = package.submodule_search_locations if package is not None else None
    if not locations:
        raise ImportError("crc32c package not found")
    finder = importlib.machinery.FileFinder(
        locations[0], (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES))
    spec = finder.find_spec(_EXTENSION)
    if spec is None or spec.loader is None:
        raise ImportError(f"{_EXTENSION} not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[_EXTENSION] = module
    return module


def _crc32c_function() -> Callable[..., Any]:
    module = sys.modules.get(_EXTENSION)
    if module is None and "crc32c" not in sys.modules:
        try:
            module = _load_extension()
        except Exception:
            module = None
    if module is not None and callable(getattr(module, "crc32c", None)):
        function: Callable[..., Any] = module.crc32c
        return function
    from crc32c import crc32c as packaged

    return packaged


crc32c: Callable[..., int] = _crc32c_function()
