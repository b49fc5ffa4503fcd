"""The ``jianfu`` command: run the whole system on one machine, provision, rebuild, audit."""
