using System.Globalization;
using DuckDB.NET.Data;
using Strata.Contracts.Features;
using Strata.Features.Store;
using Strata.ServiceDefaults;

namespace Strata.Features.Offline;

/// <summary>The offline store: per view, immutable Parquet files under <c>offline/&lt;view&gt;/</c> with the join keys,
/// <c>event_timestamp</c>, <c>created_timestamp</c> and the view's stored columns. A file appears whole (written
/// beside, then renamed) or not at all; DuckDB reads every file of a view as one table.</summary>
public sealed class OfflineStore
{
    public const string EventTimestamp = "event_timestamp";
    public const string CreatedTimestamp = "created_timestamp";

    private readonly FeatureRepository _repository;

    public OfflineStore(string root, FeatureRepository repository)
    {
        Root = root;
        _repository = repository;
        Directory.CreateDirectory(root);
    }

    public string Root { get; }

    public string ViewDirectory(string view) => Path.Combine(Root, view);

    public bool HasData(EntityFeatureView view) =>
        Directory.Exists(ViewDirectory(view.Name)) && Directory.EnumerateFiles(ViewDirectory(view.Name), "*.parquet").Any();

    /// <summary>The view's rows as a DuckDB table expression (an empty typed table when nothing was written yet).</summary>
    public string Table(EntityFeatureView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (HasData(view))
        {
            return $"read_parquet({DuckSql.Literal(Path.Combine(ViewDirectory(view.Name), "*.parquet"))})";
        }
        var columns = Columns(view).Select(c => $"CAST(NULL AS {c.Sql}) AS {DuckSql.Identifier(c.Name)}");
        return $"(SELECT {string.Join(", ", columns)} WHERE false)";
    }

    /// <summary>Column names and DuckDB types of a view's offline table, in order.</summary>
    public IReadOnlyList<(string Name, string Sql)> Columns(EntityFeatureView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var entity = _repository.Entity(view.Entity);
        return
        [
            .. entity.JoinKeys.Select(k => (k.Name, SqlType(k.Type))),
            (EventTimestamp, "TIMESTAMP"),
            (CreatedTimestamp, "TIMESTAMP"),
            .. view.StoredColumns.Select(c => (c.Name, SqlType(c.Type))),
        ];
    }

    public static string SqlType(string featureType) => featureType switch
    {
        FeatureTypes.Float64 => "DOUBLE",
        FeatureTypes.Int64 => "BIGINT",
        FeatureTypes.Bool => "BOOLEAN",
        FeatureTypes.String => "VARCHAR",
        _ => throw new ArgumentOutOfRangeException(nameof(featureType), featureType, "unknown feature type"),
    };

    /// <summary>Writes one Parquet file of rows (join key values per row + the row) for a view; returns its path. The
    /// file is staged and renamed, so a crash leaves either the whole file or none.</summary>
    public string Append(EntityFeatureView view, IReadOnlyList<object?[]> keys, IReadOnlyList<FeatureRow> rows)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(rows);
        var directory = ViewDirectory(view.Name);
        Directory.CreateDirectory(directory);
        var name = string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid():N}");
        var staging = Path.Combine(directory, $".{name}.parquet.tmp");
        var final = Path.Combine(directory, $"{name}.parquet");
        using (var db = new DuckDBConnection("Data Source=:memory:"))
        {
            db.Open();
            var columns = Columns(view);
            using (var create = db.CreateCommand())
            {
                create.CommandText = $"CREATE TABLE rows ({string.Join(", ", columns.Select(c => $"{DuckSql.Identifier(c.Name)} {c.Sql}"))})";
                create.ExecuteNonQuery();
            }
            using (var appender = db.CreateAppender("rows"))
            {
                for (var r = 0; r < rows.Count; r++)
                {
                    var row = appender.CreateRow();
                    foreach (var key in keys[r])
                    {
                        Append(row, key);
                    }
                    row.AppendValue(FeatureValues.ToDateTimeOffset(rows[r].EventTs).UtcDateTime);
                    row.AppendValue(FeatureValues.ToDateTimeOffset(rows[r].CreatedTs).UtcDateTime);
                    foreach (var value in rows[r].Values)
                    {
                        Append(row, value);
                    }
                    row.EndRow();
                }
            }
            using var copy = db.CreateCommand();
            copy.CommandText = $"COPY rows TO {DuckSql.Literal(staging)} (FORMAT parquet)";
            copy.ExecuteNonQuery();
        }
        File.Move(staging, final);
        return final;
    }

    private static void Append(IDuckDBAppenderRow row, object? value)
    {
        switch (value)
        {
            case null: row.AppendNullValue(); break;
            case double d: row.AppendValue(d); break;
            case long l: row.AppendValue(l); break;
            case string s: row.AppendValue(s); break;
            case bool b: row.AppendValue(b); break;
            default: throw new ArgumentException($"unsupported value type {value.GetType().Name}", nameof(value));
        }
    }

    /// <summary>Removes half-written files a crash left behind.</summary>
    public void CleanStaging()
    {
        foreach (var file in Directory.EnumerateFiles(Root, "*.parquet.tmp", SearchOption.AllDirectories))
        {
            File.Delete(file);
        }
    }
}
