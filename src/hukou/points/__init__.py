"""Settlement points (积分落户、积分互认): dated declarative policies, an exact vectorised
engine with line-by-line explanations, quota ranking, cross-region recognition."""
