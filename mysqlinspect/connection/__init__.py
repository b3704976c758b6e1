"""Connection settings, option files, login paths and server detection (no click, no rich).

Import the submodules themselves (`mysqlinspect.connection.settings`, `.connect`, ...): the package re-exports
nothing, so the offline commands that only need the settings types never import PyMySQL.
"""
