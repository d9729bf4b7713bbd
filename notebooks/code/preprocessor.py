"""Record pre-processor for the lab's monitoring schedule.

Model Monitor calls ``preprocess_handler`` once per captured record, before the analysis. It
returns one flat row (a dict: key order = column order) or ``[]`` to drop the record.

This one keeps the analyzer's default layout (the model's output first, then the 69 inputs) and
shows the two things a pre-processor is for: reshaping a record and filtering traffic. Requests
that a client marked as health checks (custom attribute ``healthcheck=1``) are not analysed.
"""


def preprocess_handler(inference_record, logger):
    attributes = inference_record.event_metadata.custom_attribute or []
    if "healthcheck=1" in attributes:
        logger.info("dropping health-check request %s", inference_record.event_metadata.event_id)
        return []
    output = inference_record.endpoint_output.data.strip().split(",")
    inputs = inference_record.endpoint_input.data.strip().split(",")
    # zero-padded keys keep the column order when the row is serialised as JSON
    return {str(i).zfill(20): value for i, value in enumerate(output + inputs)}
