"""Fieldwork: the rules of running a survey, with no pages of their own.

- `waves`: waves, their questionnaires and response counts; saving a wave; the default wave.
- `invitee_file`, `invitations`, `link_store`, `tokens`: lists of invitees read and imported,
  personal links issued, revoked and reissued, handed over once; tokens and the keys made from
  them.
- `quota_file`, `quotas`: quota targets read from a file, cells checked and counted.
- `monitoring`: the dashboard's figures.
- `responses_export`: complete responses as coded rows, with no personal data.

The admin and statistician blueprints and the commands call these; they never call back.
"""
