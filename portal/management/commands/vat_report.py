"""The VAT report of a quarter as CSV (net, VAT and gross per country and rate), for the OSS
return:

    manage.py vat_report --quarter 2026Q4 > vat-2026Q4.csv
    manage.py vat_report --quarter 2026Q4 --output vat-2026Q4.csv

A progress bar on stderr counts the invoices read (shown on a terminal only)."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from portal.services import vat_report


class Command(BaseCommand):
    help = "Write the VAT report of a quarter (per country and rate) as CSV."

    def add_arguments(self, parser):
        parser.add_argument("--quarter", required=True, help="the quarter, like 2026Q4")
        parser.add_argument("--output", help="a CSV file to write (default: standard output)")
        parser.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")

    def handle(self, *args, quarter, output=None, progress=False, **options):
        try:
            invoices = vat_report.invoices_in(quarter)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        total = invoices.count()
        values = invoices.values(*vat_report.FIELDS).iterator(chunk_size=2000)
        bar = tqdm(values, total=total, unit=" invoices", desc=f"VAT report {quarter.upper()}", file=self.stderr._out,
                   disable=None if not progress else False)
        rows = vat_report.summarise(bar)
        if output:
            with open(output, "w", newline="", encoding="utf-8") as out:
                vat_report.write_csv(rows, out)
            self.stderr.write(f"{total} invoices and credit notes, {len(rows)} rows: {output}")
        else:
            vat_report.write_csv(rows, self.stdout._out)
