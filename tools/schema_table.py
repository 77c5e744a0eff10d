"""Print the variables of every group of a result set as Markdown tables.

Used to write ``docs/resultset.md`` from a real file (``make report`` writes
``results/example.nc`` with every group):

    .venv/bin/python tools/schema_table.py results/example.nc
"""

from __future__ import annotations

import sys

import xarray as xr


def main(path: str) -> None:
    with xr.open_datatree(path, engine="h5netcdf") as tree:
        for node in tree.subtree:
            ds = node.to_dataset(inherit=False)
            if not ds.data_vars:
                continue
            print(f"\n### `{node.path}`\n")
            print("| variable | dims | units | meaning |")
            print("|---|---|---|---|")
            for name, da in ds.data_vars.items():
                dims = ", ".join(f"`{d}`" for d in da.dims) or "scalar"
                units = str(da.attrs.get("units", ""))
                meaning = str(da.attrs.get("long_name", da.attrs.get("description", "")))
                print(f"| `{name}` | {dims} | {units} | {meaning.replace('|', '/')} |")


if __name__ == "__main__":
    main(sys.argv[1])
