"""The HTTP edge outside Bolt: calendar connect routes, the Recall webhook intake, health, and the pages browsers
land on."""
