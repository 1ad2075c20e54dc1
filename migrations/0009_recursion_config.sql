-- PutFunctionRecursionConfig: Terminate (Lambda's default) or Allow, per function (unqualified).
ALTER TABLE `functions` ADD `recursive_loop` text DEFAULT 'Terminate' NOT NULL;
