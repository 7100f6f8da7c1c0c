"""The one exception type for mistakes a user can fix (bad config, missing data)."""


class UserError(Exception):
    """A problem with the user's input; its message says what was wrong and how to fix it."""


class Diverged(Exception):
    """Training produced a non-finite loss, or a dense network stayed at chance accuracy
    (prune_ready.learning); the run is marked failed, a multirun goes on."""
