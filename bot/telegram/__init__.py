"""The Telegram adapter, one module a feature; `app` wires them into a python-telegram-bot Application.

app: the wiring, start-up, signals and the error handler · state: what the handlers share ·
sending: replies within Telegram's limits and each chat's budget · questions: messages and /ask ·
commands: /start, /help, /source · buttons: under answers · inline: inline mode · admin: /reload,
/stats · desk, adding, removing, manage: the admins' corpus desk · support, fairness, fitting,
reload: the pieces they share (limits, stores, retries, budgets, message splitting, reloads).
Importing this package imports nothing: the CLI loads `app` only for `talksbot telegram`.
"""
