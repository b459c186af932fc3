"""The plugin inside an in-process TensorBoard WSGI app (Python loader), for route-level tests."""

import json

from tensorboard import context
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from werkzeug import test as werkzeug_test

from tb_saliency.plugin import SaliencyPlugin
from tests.support import schema

ROUTE = "/data/plugin/saliency/"


class PluginClient:
    """GETs against the plugin's routes, as the Saliency tab would send them."""

    def __init__(self, logdir, samples_per_plugin=None, wrap_provider=None):
        """`wrap_provider(provider)`, when given, is what the plugin reads through (to count its calls)."""
        multiplexer = plugin_event_multiplexer.EventMultiplexer(
            tensor_size_guidance={"saliency": 0 if samples_per_plugin is None else samples_per_plugin}
        )
        multiplexer.AddRunsFromDirectory(str(logdir))
        multiplexer.Reload()
        self._multiplexer = multiplexer
        provider = data_provider.MultiplexerDataProvider(multiplexer, str(logdir))
        hints = {} if samples_per_plugin is None else {"saliency": samples_per_plugin}
        plugin_provider = provider if wrap_provider is None else wrap_provider(provider)
        tb_context = base_plugin.TBContext(logdir=str(logdir), data_provider=plugin_provider,
                                           sampling_hints=hints)
        self.plugin = SaliencyPlugin(tb_context)
        self.provider = provider
        app = application.TensorBoardWSGI([self.plugin], data_provider=provider)
        self._client = werkzeug_test.Client(app)

    def reload(self):
        """Reads what was written since, as TensorBoard's reload loop does."""
        self._multiplexer.Reload()

    def get(self, path, **params):
        return self._client.get(ROUTE + path, query_string=params)

    def json(self, path, **params):
        """The JSON of a 200 answer, validated against http_schema.json."""
        response = self.get(path, **params)
        assert response.status_code == 200, response.get_data(as_text=True)
        document = json.loads(response.get_data())
        if path in schema.ROUTE_DEFINITIONS:
            schema.validate(document, schema.ROUTE_DEFINITIONS[path])
        return document

    def error(self, path, status, **params):
        """The message of an error answer with `status`, validated against http_schema.json."""
        response = self.get(path, **params)
        assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
        assert response.headers["Content-Type"].startswith("application/json")
        return schema.validate(json.loads(response.get_data()), "Error")["error"]

    @staticmethod
    def request_context():
        return context.RequestContext()
