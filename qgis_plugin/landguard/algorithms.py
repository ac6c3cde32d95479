"""Processing algorithms that call the installed ``landguard`` command.

Parameters are Processing parameters (files or folders, an output folder, a date); the command's output
lines go to Processing's feedback, its cancel button stops the command, and the results (findings.gpkg,
field GeoPackages) are loaded as layers, which come with their default style from ``layer_styles``.
The command is ``$LANDGUARD_COMMAND`` when set, else ``landguard`` on ``PATH``.
"""

import os
import shutil
import subprocess
from pathlib import Path

from qgis.core import (
    QgsProcessingAlgorithm, QgsProcessingContext, QgsProcessingException,
    QgsProcessingParameterEnum, QgsProcessingParameterFile, QgsProcessingParameterFolderDestination,
    QgsProcessingParameterString, QgsProcessingOutputFile, QgsProcessingOutputFolder,
)

__all__ = ["landguard_command", "CheckAlgorithm", "MapsAlgorithm", "ExportAlgorithm", "VerifyAlgorithm"]


def landguard_command():
    """The landguard executable: ``$LANDGUARD_COMMAND`` or ``landguard`` on ``PATH``.

    Examples
    --------
    >>> # landguard_command() -> '/usr/local/bin/landguard'
    """
    found = os.environ.get("LANDGUARD_COMMAND") or shutil.which("landguard")
    if not found:
        raise QgsProcessingException("找不到 landguard 命令：请安装 landguard 或设置环境变量 LANDGUARD_COMMAND "
                                     "(landguard not found: install it or set LANDGUARD_COMMAND)")
    return found


class _Landguard(QgsProcessingAlgorithm):
    """Common parts: run ``landguard <command> ...`` with feedback and cancel."""

    command = ""
    title = ""

    def name(self):
        return self.command

    def displayName(self):  # noqa: N802 (QGIS's name)
        return self.title

    def group(self):
        return "landguard"

    def groupId(self):  # noqa: N802
        return "landguard"

    def createInstance(self):  # noqa: N802
        return type(self)()

    def shortHelpString(self):  # noqa: N802
        return f"{self.title}: runs `landguard {self.command}` (see `landguard {self.command} --help`)."

    def _run(self, args, feedback):
        cmd = [landguard_command(), self.command, *[str(a) for a in args]]
        feedback.pushCommandInfo(" ".join(cmd))
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
                                errors="replace")
        lines = []
        try:
            for line in proc.stdout:
                lines.append(line.rstrip())
                feedback.pushConsoleInfo(line.rstrip())
                if feedback.isCanceled():
                    proc.terminate()
                    break
        finally:
            proc.stdout.close()
            code = proc.wait()
        if feedback.isCanceled():
            raise QgsProcessingException(f"landguard {self.command}: 已取消 (cancelled)")
        if code != 0:
            last = next((ln for ln in reversed(lines) if ln.strip()), f"exit code {code}")
            raise QgsProcessingException(f"landguard {self.command}: {last}")
        return lines

    @staticmethod
    def _load(path, name, context):
        """Load a GeoPackage layer when the algorithm finishes (its layer_styles default style applies)."""
        uri = f"{path}|layername={name}"
        details = QgsProcessingContext.LayerDetails(name, context.project(), name)
        context.addLayerToLoadOnCompletion(uri, details)


class CheckAlgorithm(_Landguard):
    """``landguard check``: the district's layers -> findings.gpkg (loaded as a styled layer)."""

    command, title = "check", "检查 check"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile("DATA", "数据（GeoPackage 或文件夹）Data",
                                                     behavior=QgsProcessingParameterFile.File, optional=True))
        self.addParameter(QgsProcessingParameterFile("DATA_FOLDER", "数据文件夹 Data folder",
                                                     behavior=QgsProcessingParameterFile.Folder, optional=True))
        self.addParameter(QgsProcessingParameterFile("CONFIG", "配置 landguard.toml", extension="toml", optional=True))
        self.addParameter(QgsProcessingParameterString("AS_OF", "检查日期 Run date (YYYY-MM-DD)", optional=True))
        self.addParameter(QgsProcessingParameterFolderDestination("OUT", "输出文件夹 Output folder"))
        self.addOutput(QgsProcessingOutputFile("FINDINGS", "findings.gpkg"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        data = self.parameterAsFile(parameters, "DATA", context) or \
            self.parameterAsFile(parameters, "DATA_FOLDER", context)
        config = self.parameterAsFile(parameters, "CONFIG", context)
        if not data and not config:
            raise QgsProcessingException("check: 请给出数据或配置文件 (give DATA, DATA_FOLDER or CONFIG)")
        out = self.parameterAsString(parameters, "OUT", context)
        args = (["--data", data] if data else []) + (["--config", config] if config else [])
        as_of = self.parameterAsString(parameters, "AS_OF", context)
        args += (["--as-of", as_of] if as_of else []) + ["--out", out, "--overwrite", "-q"]
        self._run(args, feedback)
        findings = str(Path(out) / "findings.gpkg")
        self._load(findings, "findings", context)
        return {"FINDINGS": findings, "OUT": out}


class MapsAlgorithm(_Landguard):
    """``landguard maps``: one offline HTML map per village and index.html."""

    command, title = "maps", "村级地图 maps"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile("FINDINGS", "findings.gpkg", extension="gpkg"))
        self.addParameter(QgsProcessingParameterFile("DATA", "数据 Data (GeoPackage or folder)",
                                                     behavior=QgsProcessingParameterFile.File, optional=True))
        self.addParameter(QgsProcessingParameterFile("CONFIG", "配置 landguard.toml", extension="toml", optional=True))
        self.addParameter(QgsProcessingParameterFolderDestination("OUT", "输出文件夹 Output folder"))
        self.addOutput(QgsProcessingOutputFile("INDEX", "index.html"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        out = self.parameterAsString(parameters, "OUT", context)
        args = ["--findings", self.parameterAsFile(parameters, "FINDINGS", context)]
        for key, flag in (("DATA", "--data"), ("CONFIG", "--config")):
            value = self.parameterAsFile(parameters, key, context)
            args += [flag, value] if value else []
        self._run(args + ["--out", out, "-q"], feedback)
        return {"INDEX": str(Path(out) / "index.html"), "OUT": out}


class ExportAlgorithm(_Landguard):
    """``landguard export``: field files per village; the GeoPackages are loaded as styled layers."""

    command, title = "export", "外业导出 export"
    CRS = ["wgs84", "working"]

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile("FINDINGS", "findings.gpkg", extension="gpkg"))
        self.addParameter(QgsProcessingParameterFile("DATA", "数据 Data (GeoPackage or folder)",
                                                     behavior=QgsProcessingParameterFile.File, optional=True))
        self.addParameter(QgsProcessingParameterEnum("CRS", "坐标系 CRS", options=self.CRS, defaultValue=0))
        self.addParameter(QgsProcessingParameterFolderDestination("OUT", "输出文件夹 Output folder"))
        self.addOutput(QgsProcessingOutputFolder("FILES", "外业文件 Field files"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        out = self.parameterAsString(parameters, "OUT", context)
        args = ["--findings", self.parameterAsFile(parameters, "FINDINGS", context), "--out", out,
                "--crs", self.CRS[self.parameterAsEnum(parameters, "CRS", context)]]
        data = self.parameterAsFile(parameters, "DATA", context)
        self._run(args + (["--data", data] if data else []), feedback)
        for gpkg in sorted(Path(out).glob("*.gpkg")):
            self._load(str(gpkg), "findings", context)
        return {"FILES": out, "OUT": out}


class VerifyAlgorithm(_Landguard):
    """``landguard verify``: the field team's GeoPackage back into the ledger."""

    command, title = "verify", "核查回填 verify"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile("IN", "外业返回的 GeoPackage / 文件夹 / zip (returned file)"))
        self.addParameter(QgsProcessingParameterFile("LEDGER", "台账 ledger (.xlsx)", extension="xlsx"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        lines = self._run(["--in", self.parameterAsFile(parameters, "IN", context),
                           "--ledger", self.parameterAsFile(parameters, "LEDGER", context)], feedback)
        return {"LOG": "\n".join(lines)}

