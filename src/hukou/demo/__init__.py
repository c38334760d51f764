"""The demo (``make demo``): the platform set up on a synthetic city with an account per
role (:mod:`hukou.demo.setup`); what it made (:mod:`hukou.demo.state`). Nothing is
imported here: the console reads the state without loading the set-up."""
