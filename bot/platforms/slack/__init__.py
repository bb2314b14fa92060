"""newsbot on Slack: Bolt commands, Block Kit rendering and the Slack notifier."""
