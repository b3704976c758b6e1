"""The optional C extensions: `pages verify` and the MariaDB redo walk (innodb/_pagecheck.c), binlog row images
(binlog/decode/_rowimage.c), SQL row literals (binlog/replay/_sqltext.c), the first walk over local binlog files
(binlog/source/_walk.c); the rest is declared in pyproject.toml.

`optional=True`: when one cannot be compiled (no compiler or Python headers) the install goes on without it and
its pure-Python path is used (mysqlinspect/innodb/pages/fastcheck.py, mysqlinspect/binlog/decode/plan.py,
mysqlinspect/binlog/replay/sqlliteral.py, mysqlinspect/binlog/source/local.py).
"""

import sys

from setuptools import Extension, setup

_ARGS = ["-O3", "-std=c99"] if sys.platform != "win32" else []

setup(ext_modules=[Extension("mysqlinspect.innodb._pagecheck", ["mysqlinspect/innodb/_pagecheck.c"],
                             extra_compile_args=_ARGS, optional=True),
                   Extension("mysqlinspect.binlog.decode._rowimage", ["mysqlinspect/binlog/decode/_rowimage.c"],
                             extra_compile_args=_ARGS, optional=True),
                   Extension("mysqlinspect.binlog.source._walk", ["mysqlinspect/binlog/source/_walk.c"],
                             extra_compile_args=_ARGS, optional=True),
                   Extension("mysqlinspect.binlog.replay._sqltext", ["mysqlinspect/binlog/replay/_sqltext.c"],
                             extra_compile_args=_ARGS, optional=True)])
