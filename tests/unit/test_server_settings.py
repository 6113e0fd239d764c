"""The app's Streamlit settings keep work off the server's event loop and interpreter between
page views (.streamlit/config.toml): no source-file watcher, no forced full garbage collection
after each run. Both are Streamlit's defaults; each cost 0.1 s or more a page view, with every
session's messages waiting (docs/scaling.md, "Where it stands (session 13)")."""

import tomllib

from fleetspend import schema


def test_no_file_watcher_and_no_collection_after_each_run() -> None:
    config = tomllib.loads((schema.PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"
    assert config["runner"]["postScriptGC"] is False
