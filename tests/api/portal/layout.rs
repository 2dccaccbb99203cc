//! Every page of the portal at 360 px wide: readable without horizontal scrolling.
