"""Fixtures' building blocks: real PostgreSQL and RabbitMQ, services started in-process."""
