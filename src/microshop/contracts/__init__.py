"""The shared vocabulary between services: API and event schemas, nothing else."""
