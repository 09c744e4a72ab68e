"""Application services: what listeners, routes and jobs call. No Slack request handling here."""
