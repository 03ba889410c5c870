"""The names of the options a run takes, without the libraries that act on them.

`flask` commands and forms offer these as choices; importing them from here rather than from
`weights`, `estimate` or `intervals` keeps numpy, pandas and scipy out of a command that only
lists its options (docs/benchmarks.md, "Starting a command").
"""

#: calibration methods (`analysis.weights.weight`)
METHODS = ("poststratify", "rake", "linear", "raking", "logit")
#: ``options(survey.lonely.psu = )`` of R's survey (`analysis.estimate.Design`)
LONELY_PSU = ("fail", "remove", "certainty", "adjust", "average")
#: confidence interval methods (`analysis.intervals.interval`)
INTERVALS = ("logit", "wald")
#: the quantile: normal, or Student's t with the design's degrees of freedom (or a number)
DF = ("normal", "design")
