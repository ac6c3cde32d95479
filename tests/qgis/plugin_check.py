"""Load the landguard QGIS plugin from its zip in a real QGIS and run its ``check`` algorithm (system python).

Usage: ``QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis/plugin_check.py PLUGIN.zip DATA OUT``; prints JSON:
the provider's algorithms, the check's outputs and the findings layer loaded from them (count, renderer).
"""

import json
import os
import sys
import tempfile
import zipfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.append("/usr/share/qgis/python/plugins")      # Processing itself

from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback, QgsProject  # noqa: E402

app = QgsApplication([], False)
app.initQgis()
from processing.core.Processing import Processing  # noqa: E402

Processing.initialize()
zipped, data, out = sys.argv[1:4]
plugins = tempfile.mkdtemp()
zipfile.ZipFile(zipped).extractall(plugins)             # as QGIS's "Install from ZIP" does
sys.path.insert(0, plugins)
import landguard as plugin_package  # noqa: E402

plugin = plugin_package.classFactory(None)
plugin.initProcessing()
registry = QgsApplication.processingRegistry()
algorithms = sorted(a.id() for a in registry.providerById("landguard").algorithms())
context = QgsProcessingContext()
context.setProject(QgsProject.instance())
feedback = QgsProcessingFeedback()
alg = registry.createAlgorithmById("landguard:check")
results, ok = alg.run({"DATA_FOLDER": data, "OUT": out}, context, feedback)
loaded = {}
for uri, details in context.layersToLoadOnCompletion().items():
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(uri, details.name, "ogr")
    loaded[details.name] = {"valid": layer.isValid(), "count": layer.featureCount(),
                            "renderer": layer.renderer().type() if layer.renderer() else None}
plugin.unload()
print(json.dumps({"algorithms": algorithms, "ok": ok, "results": {k: str(v) for k, v in (results or {}).items()},
                  "loaded": loaded, "provider_after_unload": registry.providerById("landguard") is not None},
                 ensure_ascii=False), flush=True)
os._exit(0)  # QgsApplication.exitQgis() after Processing.initialize() crashes headless QGIS 3.22 on exit
