"""The optional C extension of `pages verify` and the MariaDB redo walk (the rest is declared in pyproject.toml).

`optional=True`: when it cannot be compiled (no compiler or Python headers) the install goes on without it and
`pages verify` uses its pure-Python path (mysqlinspect/innodb/pages/fastcheck.py).
"""

import sys

from setuptools import Extension, setup

_ARGS = ["-O3", "-std=c99"] if sys.platform != "win32" else []

setup(ext_modules=[Extension("mysqlinspect.innodb._pagecheck", ["mysqlinspect/innodb/_pagecheck.c"],
                             extra_compile_args=_ARGS, optional=True)])
