"""Everything `runloom manager` runs: project worker supervision (claims, restarts, idle
stop and wake-up) and the execution tracker. See runloom.manager.app.run_manager."""
