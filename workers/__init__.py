"""arq workers: the jobs that process stored messages and the cron jobs of the loop."""
