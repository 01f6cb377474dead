"""The economic models, one subpackage each (import the subpackage you need).

specialization  collateral-constrained multi-industry economy (papers 002/003): DE, planner, welfare
overborrowing   Bianchi (2011) overborrowing: the validation benchmark of the collateral engine
cnces           cross-nested CES city-occupation choice, correlated migration (paper 004)
clusters        CES/Armington model with local industry spillovers (paper 000)
hubs            spatial equilibrium with sectoral hubs and a constrained planner (paper 001)
"""
