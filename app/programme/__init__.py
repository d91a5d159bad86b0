"""The action programme's follow-up as data: watch-lists, people and working groups, lead officials, physical
progress and milestones (issue #11 item 6; docs/rules.md, R21)."""
