using Strata.Contracts;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using DuckDB.NET.Data;
using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Data.Storage;
using Strata.ServiceDefaults;

namespace Strata.Data.Ingestion;

/// <summary>The formats a dataset can be ingested from.</summary>
public enum SourceFormat
{
    Csv,
    Parquet,
}

/// <summary>Reads a CSV (schema inferred) or a Parquet file with DuckDB, applies the cleaning rules in order (missing
/// values first, then each filter), counts what each rule dropped, and writes the kept rows as Parquet.</summary>
public sealed class CsvIngestion(DatasetCatalog catalog, TimeProvider time, int maxColumns = 1000)
{
    /// <summary>The fields of the CSV's first record (quotes honoured, a comma, semicolon, tab or pipe as the separator,
    /// whichever the line has most of outside quotes), read from at most its first 4 MiB.</summary>
    internal static int HeaderColumns(string file)
    {
        using var reader = new StreamReader(file);
        var buffer = new char[4 << 20];
        var read = reader.ReadBlock(buffer, 0, buffer.Length);
        var counts = new Dictionary<char, int> { [','] = 0, [';'] = 0, ['\t'] = 0, ['|'] = 0 };
        var quoted = false;
        for (var i = 0; i < read; i++)
        {
            var c = buffer[i];
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && (c == '\n' || c == '\r'))
            {
                break;
            }
            else if (!quoted && counts.TryGetValue(c, out var n))
            {
                counts[c] = n + 1;
            }
        }
        return counts.Values.Max() + 1;
    }

    public Task<DatasetVersion> IngestAsync(string name, Stream csv, CleaningRules rules, CancellationToken cancellationToken) =>
        IngestAsync(name, csv, SourceFormat.Csv, rules, cancellationToken);

    public async Task<DatasetVersion> IngestAsync(string name, Stream csv, SourceFormat format, CleaningRules rules, CancellationToken cancellationToken)
    {
        DatasetNames.Validate(name);
        ArgumentNullException.ThrowIfNull(rules);
        var staging = catalog.NewStagingDirectory();
        try
        {
            var source = Path.Combine(staging, format == SourceFormat.Csv ? "source.csv" : "source.parquet");
            var contentHash = await CopyHashingAsync(csv, source, cancellationToken);
            if (new FileInfo(source).Length == 0)
            {
                throw new InputValidationException("body", $"the {format.ToString().ToUpperInvariant()} body is empty");
            }
            if (format == SourceFormat.Csv && HeaderColumns(source) is var header && header > maxColumns)
            {
                throw new InputValidationException("body", $"the CSV has {header} columns; a dataset may have at most {maxColumns} (Strata:Data:MaxColumns)");
            }
            var id = VersionId(name, format == SourceFormat.Csv ? contentHash : "parquet:" + contentHash, rules);
            if (catalog.Get(id) is { } existing)
            {
                Directory.Delete(staging, recursive: true);
                return existing;
            }

            using var db = new DuckDBConnection("Data Source=:memory:");
            await db.OpenAsync(cancellationToken);
            await LoadAsync(db, source, format, cancellationToken);
            var schema = await DescribeAsync(db, cancellationToken);
            if (schema.Count > maxColumns)
            {
                throw new InputValidationException("body", $"the {format.ToString().ToUpperInvariant()} has {schema.Count} columns; a dataset may have at most {maxColumns} (Strata:Data:MaxColumns)");
            }
            foreach (var filter in rules.Filters)
            {
                var column = schema.FirstOrDefault(c => c.Name == filter.Column)
                    ?? throw new InputValidationException("filter", $"column '{filter.Column}' is not in the CSV (columns: {string.Join(", ", schema.Select(c => c.Name))})");
                if (!DuckSql.IsNumeric(column.Type))
                {
                    throw new InputValidationException("filter", $"column '{filter.Column}' is {WireNames.Of(column.Type)}, not numeric");
                }
            }

            var sourceRows = await CountAsync(db, "TRUE", cancellationToken);
            var kept = new List<string>();
            var dropped = new List<DropReport>();
            if (rules.DropMissing)
            {
                var noneMissing = string.Join(" AND ", schema.Select(c => $"{DuckSql.Identifier(c.Name)} IS NOT NULL"));
                dropped.Add(new DropReport("missing_values", sourceRows - await CountAsync(db, noneMissing, cancellationToken)));
                kept.Add(noneMissing);
            }
            foreach (var filter in rules.Filters)
            {
                var before = await CountAsync(db, Conjunction(kept), cancellationToken);
                // A NULL compared is not true, so rows with a missing value in the filter's column fail the filter.
                var condition = $"COALESCE({DuckSql.Identifier(filter.Column)} {filter.Op} {filter.Value.ToString("R", CultureInfo.InvariantCulture)}, FALSE)";
                kept.Add(condition);
                dropped.Add(new DropReport(filter.ToString(), before - await CountAsync(db, Conjunction(kept), cancellationToken)));
            }
            var rows = await CountAsync(db, Conjunction(kept), cancellationToken);

            var parquet = Path.Combine(staging, DatasetCatalog.DataFile);
            if (format == SourceFormat.Parquet && kept.Count == 0)
            {
                // Nothing to drop: the validated Parquet file is the version's data as it is.
                File.Move(source, parquet);
            }
            else
            {
                await ExecuteAsync(db, $"COPY (SELECT * FROM src WHERE {Conjunction(kept)}) TO {DuckSql.Literal(parquet)} (FORMAT PARQUET)", cancellationToken);
                File.Delete(source);
            }
            var version = new DatasetVersion(id, name, time.GetUtcNow(), sourceRows, rows, schema, rules, dropped);
            return catalog.Publish(staging, version);
        }
        catch
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
            throw;
        }
    }

    private static async Task LoadAsync(DuckDBConnection db, string source, SourceFormat format, CancellationToken cancellationToken)
    {
        if (format == SourceFormat.Parquet)
        {
            try
            {
                await ExecuteAsync(db, $"CREATE VIEW src AS SELECT * FROM read_parquet({DuckSql.Literal(source)})", cancellationToken);
                await ExecuteAsync(db, "SELECT count(*) FROM src", cancellationToken);
                return;
            }
            catch (DuckDBException e)
            {
                throw new InputValidationException("body", "is not a readable Parquet file: " + FirstLine(e.Message));
            }
        }
        try
        {
            await ExecuteAsync(db, $"CREATE TABLE src AS SELECT * FROM read_csv({DuckSql.Literal(source)}, header = true, auto_detect = true, sample_size = -1, strict_mode = true, null_padding = false, ignore_errors = false, skip = 0, delim = ',')", cancellationToken);
        }
        catch (DuckDBException e)
        {
            throw new InputValidationException("body", "is not a readable CSV with a header row: " + FirstLine(e.Message));
        }
        // A header alone would be a dataset version of no rows that every reader then trips over (issue 24).
        if (await CountAsync(db, "TRUE", cancellationToken) == 0)
        {
            throw new InputValidationException("body", "has a header row but no data rows");
        }
    }

    private static async Task<IReadOnlyList<ColumnSchema>> DescribeAsync(DuckDBConnection db, CancellationToken cancellationToken)
    {
        var schema = new List<ColumnSchema>();
        using var command = db.CreateCommand();
        command.CommandText = "SELECT column_name, column_type FROM (DESCRIBE src)";
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var duckType = reader.GetString(1);
            schema.Add(new ColumnSchema(reader.GetString(0), DuckSql.LogicalType(duckType), duckType));
        }
        return schema;
    }

    private static string Conjunction(List<string> conditions) => conditions.Count == 0 ? "TRUE" : string.Join(" AND ", conditions);

    private static async Task<long> CountAsync(DuckDBConnection db, string where, CancellationToken cancellationToken)
    {
        using var command = db.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM src WHERE {where}";
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(DuckDBConnection db, string sql, CancellationToken cancellationToken)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<string> CopyHashingAsync(Stream input, string path, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>A version is identified by what it is: its name, the source bytes and the rules applied to them.</summary>
    internal static string VersionId(string name, string contentHash, CleaningRules rules)
    {
        var canonical = $"{name}\n{contentHash}\ndrop_missing={rules.DropMissing}\n{string.Join('\n', rules.Filters.Select(f => f.ToString()))}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
