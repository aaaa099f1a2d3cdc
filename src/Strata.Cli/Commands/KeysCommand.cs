using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Strata.Contracts.Security;

namespace Strata.Cli.Commands;

/// <summary><c>strata keys create|ls|revoke|whoami|roles</c>: API keys of a running Strata (admin only, except whoami
/// and roles). A new key's secret is printed once.</summary>
public static class KeysCommand
{
    public static Command Create()
    {
        var command = new Command("keys", "API keys: create, list and revoke them; who you are; the roles");
        command.Subcommands.Add(CreateKey());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Revoke());
        command.Subcommands.Add(WhoAmI());
        command.Subcommands.Add(Roles());
        return command;
    }

    private static Option<Uri> UrlOption() => CommonOptions.Url("the gateway or the security service");

    private static Command CreateKey()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var name = new Argument<string>("name") { Description = "A name for the key (unique among active keys)" };
        var roles = new Option<string[]>("--role", "-r")
        {
            Description = $"A role of the key (repeat for more): {string.Join(", ", Strata.ServiceDefaults.Security.StrataRoles.Grantable.Keys)}",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var days = new Option<double?>("--expires-in-days") { Description = "The key stops working after this many days" };
        var command = new Command("create", "Create an API key; its secret is printed once") { name, url, json, roles, days };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async security =>
        {
            var created = await security.CreateKeyAsync(new NewApiKey(parse.GetValue(name), parse.GetValue(roles), null, parse.GetValue(days)), ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(created);
            }
            var expires = created.Info.ExpiresAt is { } at ? $", expires {at:u}" : "";
            AnsiConsole.MarkupLineInterpolated($"created key [bold]{created.Info.Name}[/] ({created.Info.Id}) with roles {string.Join(", ", created.Info.Roles)}{expires}");
            AnsiConsole.MarkupLine("the key is shown this once; store it as a secret:");
            Console.WriteLine(created.Key);
            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var wide = CommonOptions.Wide();
        var command = new Command("ls", "List API keys (never their secrets)") { url, json, wide };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async security =>
        {
            var keys = await security.ListKeysAsync(ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(keys);
            }
            var now = TimeProvider.System.GetUtcNow();
            var table = new FittedTable().Column("id").Column("name").Column("roles").Column("state").Column("expires", 1).Column("created", 2).Column("created by", 3);
            foreach (var key in keys)
            {
                table.Row(key.Id, key.Name, string.Join(",", key.Roles), key.State(now), key.ExpiresAt?.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "never",
                    key.CreatedAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), key.CreatedBy);
            }
            table.Write(parse.GetValue(wide));
            return 0;
        }));
        return command;
    }

    private static Command Revoke()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var id = new Argument<string>("id") { Description = "The key's id (strata keys ls)" };
        var command = new Command("revoke", "Revoke an API key: it stops working within a second everywhere") { id, url, json };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async security =>
        {
            var revoked = await security.RevokeKeyAsync(parse.GetValue(id)!, ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(revoked);
            }
            AnsiConsole.MarkupLineInterpolated($"revoked key {revoked.Name} ({revoked.Id}) at {revoked.RevokedAt:u}");
            return 0;
        }));
        return command;
    }

    private static Command WhoAmI()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var command = new Command("whoami", "Who the key you use is, its roles and permissions") { url, json };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async security =>
        {
            var me = await security.WhoAmIAsync(ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(me);
            }
            AnsiConsole.MarkupLineInterpolated($"{me.Name} ({me.Kind}{(me.KeyId is null ? "" : " " + me.KeyId)}): roles {string.Join(", ", me.Roles)}; may {string.Join(", ", me.Permissions)}");
            return 0;
        }));
        return command;
    }

    private static Command Roles()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var command = new Command("roles", "The roles a key can have and what each permits") { url, json };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async security =>
        {
            var roles = await security.RolesAsync(ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(roles);
            }
            var table = new Table().AddColumns("role", "permissions");
            foreach (var role in roles)
            {
                table.AddRow(Markup.Escape(role.Role), Markup.Escape(string.Join(", ", role.Permissions)));
            }
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    private static Task<int> RunAsync(Uri url, Func<HttpSecurityClient, Task<int>> action) =>
        CommonOptions.RunClientAsync(url, TimeSpan.FromMinutes(1), http => action(new HttpSecurityClient(http)));
}
