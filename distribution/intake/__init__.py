"""Lead intake: normalize, validate and score raw leads, then store them (``pipeline``)."""
