"""The request and response messages of the tracking routes: pydantic models named after MLflow's protobuf
messages, with the same JSON field names. Requests are validated with them (except ``runs/log-batch``, see
:mod:`~wayline.server.messages.log_batch`); responses are built by :mod:`wayline.wire` and the models only
document them in the OpenAPI document."""
