/* api_notify_queue.c: the queue API (alerts-notifications.md §10.4); the handlers follow. */
