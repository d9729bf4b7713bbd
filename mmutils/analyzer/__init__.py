"""Re-implementation of the SageMaker Model Monitor data-quality analyzer container."""
