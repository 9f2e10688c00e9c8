"""The Blueprint every resource uses: flask-smorest's, with a 400 for invalid input.

webargs answers 422 by default; the contract says a validation failure is a 400.
"""
import flask_smorest
from webargs.flaskparser import FlaskParser


class ArgumentsParser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ArgumentsParser()
