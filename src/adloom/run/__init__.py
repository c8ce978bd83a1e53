"""The run: planning, generating, scoring, keeping and reviewing, and the commands on top.

plan         make_plan: the jobs a campaign asks for, and the estimate
pipeline     run_campaign: the stages of a run end to end
generate     copy and image generation through the engine, with lint repair
batching     copy through Bedrock batch jobs (--mode batch)
score        judging variants with a text model
keep         which variants a run keeps
review       adloom review: re-composing after a reviewer's edits
runsettings  a run's settings: flags, campaign settings and defaults, merged
jobs         adloom jobs: batch jobs in flight
lintcmd      adloom lint: checking a brief's copy without generating
doctor       adloom doctor: access, quotas and profiles of an account
report       adloom report: what a finished run cost and made
"""

__all__ = [
    "batching",
    "doctor",
    "generate",
    "jobs",
    "keep",
    "lintcmd",
    "pipeline",
    "plan",
    "report",
    "review",
    "runsettings",
    "score",
]
