"""The Blueprint every resource uses: flask-smorest's, with a 400 for invalid input.

webargs answers 422 by default; the contract says a validation failure is a 400. A body that is
not JSON is said to be so (webargs would ignore a body of another Content-Type and report every
required field as missing, and answer invalid JSON with a bare "Invalid JSON body.").
"""
import flask_smorest
from flask_smorest import abort
from webargs import core
from webargs.flaskparser import FlaskParser

from hub.errors import InvalidInput

_SEND_JSON = "Send a JSON object with 'Content-Type: application/json'."


class ArgumentsParser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def load_json(self, req, schema):
        if not core.is_json(req.mimetype) and req.get_data(cache=True):
            sent = f"sent as {req.mimetype}" if req.mimetype else "sent without a Content-Type"
            raise InvalidInput(f"The request body must be JSON; this one was {sent}. {_SEND_JSON}",
                               errors={"_body": ["Not JSON."]})
        return super().load_json(req, schema)

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:  # a body nested deeper than the JSON decoder goes
            abort(400, messages={"json": {"_body": ["Nested too deeply."]}})

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        if isinstance(error, UnicodeDecodeError) or error.msg.startswith("Bytes decoding error"):
            where = "it is not UTF-8"  # webargs reports undecodable bytes as a JSONDecodeError
        else:
            where = f"{error.msg} at line {error.lineno}, column {error.colno}"
        raise InvalidInput(f"The request body is not valid JSON ({where}). {_SEND_JSON}",
                           errors={"_body": ["Invalid JSON."]})


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ArgumentsParser()
