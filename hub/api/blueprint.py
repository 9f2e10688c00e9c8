"""The Blueprint every resource uses: flask-smorest's, with a 400 for invalid input.

webargs answers 422 by default; the contract says a validation failure is a 400.
"""
import flask_smorest
from flask_smorest import abort
from webargs.flaskparser import FlaskParser


class ArgumentsParser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:  # a body nested deeper than the JSON decoder goes
            abort(400, messages={"json": {"_body": ["Nested too deeply."]}})


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ArgumentsParser()
