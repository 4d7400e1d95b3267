"""The run store: one SQLite database, the single source of truth for runs, groups and metrics.

Three parts, each a layer of ``Store``:

- ``database``: connections, transactions, the schema and its migrations, each run's folder;
- ``lifecycle``: every write: queueing, claiming, metric points, how a run ended, user actions;
- ``queries``: every read: runs, groups, metric points, the frames pages and exports show.

(A run's ``Status`` lives in ``cnnkit.events``.) ``run`` holds the ``Run`` record and the checks on ids, names
and tags, ``process_identity`` how a recorded process is recognised.
"""
from cnnkit.store.database import CHECKPOINT_NAME, MIGRATIONS, default_home
from cnnkit.store.lifecycle import RunLifecycle
from cnnkit.store.process_identity import is_alive, process_start
from cnnkit.store.queries import RunQueries, run_row
from cnnkit.store.run import MAX_NAME, Run, check_name, check_run_id, check_tags, is_run_id


class Store(RunLifecycle, RunQueries):
    """Runs, groups and metrics in ``<home>/cnnkit.db``, their files in ``<home>/runs/<id>/``; one
    handle per process is enough."""


__all__ = ["CHECKPOINT_NAME", "MAX_NAME", "MIGRATIONS", "Run", "Store", "check_name", "check_run_id",
           "check_tags", "default_home", "is_alive", "is_run_id", "process_start", "run_row"]
