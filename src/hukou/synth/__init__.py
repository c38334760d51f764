"""The synthetic city: a realistic population, seven department feeds with defects, truth."""
