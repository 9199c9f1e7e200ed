"""`latentspace search`: hyperparameter search with Optuna: random search as in the study (TPE as the
alternative), median pruning, one study shared by many worker processes through a database, with a global
trial budget.

    latentspace search ae --trials 30 --epochs-per-trial 5 --workers 2 --out runs/search-ae

Storage: an SQLite file `OUT/study.db` by default; `--storage URL` takes any SQLAlchemy URL that Optuna's
RDBStorage understands, e.g. `postgresql://user:pass@host:5432/db` (psycopg 3, the `postgres` extra; the
explicit form `postgresql+psycopg://...` works the same) or `mysql+pymysql://...`. An absolute SQLite path
takes four slashes: `sqlite:////abs/path/study.db`.

The budget (`--trials N`) is global: N trials in total over every worker on every machine. A worker takes
a lock, counts the trials already taken, and creates its trial (Optuna's ask) before letting go, so the count
and the new trial are one step: a file lock next to the SQLite file on one machine, a PostgreSQL advisory lock
(MySQL: GET_LOCK) when the study lives in a server shared by many machines. Optuna's MaxTrialsCallback checks
only after a trial ends, so W workers would overrun the budget by up to W-1 trials.

What counts toward the budget: completed, pruned and running trials, and trials that failed by their own fault
(e.g. the loss diverged). A trial whose worker was killed keeps no heartbeat; after 3 heartbeat intervals any
worker marks it FAILED and it does not count, so the others (or a re-run of the same command) make up for it.

Modules: `space` (the models' search spaces as Optuna distributions, `--space` overrides), `storage` (the
database and the budget lock), `workers` (the ask-and-tell loop, heartbeats, worker processes),
`objective` (one trial: train, prune, score), `report` (trials.csv/md, best.json, table1.md, plots) and
`run` (settings, checks, creating or joining the study, running the workers).
"""
