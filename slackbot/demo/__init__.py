"""recall-slackbot demo: the real app against local stand-ins, with a Slack-like page."""
