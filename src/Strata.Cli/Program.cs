using Strata.Cli.Commands;

return await StrataCommand.InvokeAsync(args);
