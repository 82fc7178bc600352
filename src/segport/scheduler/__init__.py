"""When things run: schedule values and their firings, computed without a database.

:mod:`segport.scheduler.times` holds the schedules (a cron expression in a time zone, or
the system refresh's days and times of day) and answers "when next?" and "is one due
now?". It knows nothing of the workspace: the services store schedules and the worker
acts on what this package says (docs/schedules.md).
"""
