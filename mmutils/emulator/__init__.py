"""The embedded AWS for the lab: moto's server plus what Model Monitor needs that moto lacks."""
