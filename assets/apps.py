from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = _("Device register")

    def ready(self) -> None:
        from assets.imports import ContractImporter, DeviceImporter, SnipeItAssetImporter, SupplierImporter
        from core.imports import register

        for importer in (SupplierImporter(), ContractImporter(), DeviceImporter(), SnipeItAssetImporter()):
            register(importer)
